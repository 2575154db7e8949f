"""Audit: reads of personal data (customer number, remote address), the hash chain
(sequence number, previous hash, hash; a chain-head row) and append-only triggers.

Existing entries are chained in id order, so ``dms audit verify`` checks them too.

Revision ID: 0053
Revises: 0050
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dms.domain.audit import GENESIS, entry_fields, entry_hash

revision = "0053"
down_revision = "0052"
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
"""
PG_TRIGGERS = (
    _PG_FUNCTION,
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)
SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER audit_events_no_{op_} BEFORE {op_.upper()} ON audit_events "
    f"BEGIN SELECT RAISE(ABORT, 'audit_events is append-only ({op_.upper()} refused)'); END"
    for op_ in ("update", "delete"))


def _backfill() -> tuple[int, str]:
    conn = op.get_bind()
    # Typed, so SQLite hands back a datetime and a dict rather than their stored text.
    typed = {"at": sa.DateTime(timezone=True), "data": sa.JSON(), "seq": sa.BigInteger()}
    t = sa.table("audit_events", *(sa.column(c, typed.get(c)) for c in (
        "id", "at", "actor", "action", "entity", "entity_id", "from_state", "to_state",
        "reason", "data", "customer_no", "remote_addr", "seq", "prev_hash", "hash")))
    rows = conn.execute(sa.select(t).order_by(t.c.id)).mappings().all()
    prev, seq = GENESIS, 0
    for row in rows:
        seq += 1
        values = {**row, "seq": seq, "customer_no": row["customer_no"] or "",
                  "remote_addr": row["remote_addr"] or "", "data": row["data"] or {}}
        digest = entry_hash(prev, entry_fields(values))
        conn.execute(t.update().where(t.c.id == row["id"]).values(
            seq=seq, prev_hash=prev, hash=digest))
        prev = digest
    return seq, prev


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_no", sa.String(length=32), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("remote_addr", sa.String(length=64), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    seq, head = _backfill()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_seq"), ["seq"])
        batch_op.create_index(batch_op.f("ix_audit_events_customer_no"), ["customer_no"],
                              unique=False)
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.execute(sa.text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, :s, :h)")
               .bindparams(s=seq, h=head))
    dialect = op.get_bind().dialect.name
    for ddl in PG_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_customer_no"))
        batch_op.drop_constraint(batch_op.f("uq_audit_events_seq"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
        batch_op.drop_column("remote_addr")
        batch_op.drop_column("customer_no")
