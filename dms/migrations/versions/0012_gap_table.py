"""Gap report: the maintained (business, required type) table and the triggers that mark
businesses whose pairs changed (see dms.db.models_gaps)

Revision ID: 0012
Revises: 0001
Create Date: 2026-12-03

The table starts empty and unbuilt (no ``gap_state`` row): reports compute from the live
rows until ``dms report gaps --rebuild`` fills it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0001"
branch_labels = None
depends_on = None

# (table, business id column, columns whose change changes the table's pairs)
WATCHED = (
    ("documents", "business_id", ("business_id", "doc_type", "type_confidence",
                                  "type_confirmed")),
    ("businesses", "id", ("id", "business_type", "agent_applied", "created_at")),
    ("business_steps", "business_id", ("business_id", "step", "completed_at")),
)


def _sqlite_triggers() -> None:
    def mark(ref: str) -> str:
        return (f"INSERT INTO gap_dirty (business_id) SELECT {ref} WHERE {ref} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM gap_dirty WHERE business_id = {ref});")
    for table, key, cols in WATCHED:
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in cols)
        op.execute(f"CREATE TRIGGER gap_{table}_insert AFTER INSERT ON {table} "
                   f"BEGIN {mark('NEW.' + key)} END")
        op.execute(f"CREATE TRIGGER gap_{table}_delete AFTER DELETE ON {table} "
                   f"BEGIN {mark('OLD.' + key)} END")
        op.execute(f"CREATE TRIGGER gap_{table}_update AFTER UPDATE OF {', '.join(cols)} "
                   f"ON {table} WHEN {changed} "
                   f"BEGIN {mark('OLD.' + key)} {mark('NEW.' + key)} END")


def _postgres_triggers() -> None:
    for table, key, cols in WATCHED:
        op.execute(f"""
CREATE FUNCTION gap_mark_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.{key} IS NOT NULL THEN
    INSERT INTO gap_dirty (business_id) VALUES (OLD.{key}) ON CONFLICT DO NOTHING;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.{key} IS NOT NULL THEN
    INSERT INTO gap_dirty (business_id) VALUES (NEW.{key}) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$""")
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in cols)
        op.execute(f"CREATE TRIGGER gap_{table}_insert_delete AFTER INSERT OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE PROCEDURE gap_mark_{table}()")
        op.execute(f"CREATE TRIGGER gap_{table}_update AFTER UPDATE OF {', '.join(cols)} "
                   f"ON {table} FOR EACH ROW WHEN ({changed}) "
                   f"EXECUTE PROCEDURE gap_mark_{table}()")


def upgrade() -> None:
    op.create_table(
        "gap_pairs",
        sa.Column("business_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ord", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("doc_name", sa.String(length=200), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("required_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("csv_tail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("business_id", "ord", name=op.f("pk_gap_pairs")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "gap_dirty",
        sa.Column("business_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("business_id", name=op.f("pk_gap_dirty")),
    )
    op.create_table(
        "gap_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gap_state")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgres_triggers()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, _, _ in WATCHED:
        if sqlite:
            for kind in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS gap_{table}_{kind}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS gap_{table}_insert_delete ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS gap_{table}_update ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS gap_mark_{table}()")
    op.drop_table("gap_state")
    op.drop_table("gap_dirty")
    op.drop_table("gap_pairs")
