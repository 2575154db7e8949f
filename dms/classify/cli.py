"""``dms classify``: retrain, evaluate, (re)classify a document, show the model status."""
from __future__ import annotations

import json

import click

from dms.cli_context import CliContext, pass_ctx
from dms.services.container import Services


@click.command("classify", help="Document types: --retrain the learned model, --evaluate it "
                                "(cross-validated, on confirmed documents), or classify "
                                "--document ID again. Without options: the model status.")
@click.option("--retrain", is_flag=True, help="train a new model version now")
@click.option("--evaluate", is_flag=True, help="cross-validated accuracy and confusion per type")
@click.option("--document", "document_ids", type=int, multiple=True,
              help="classify this document again (repeatable)")
@click.option("--folds", type=int, default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def classify(c: CliContext, retrain: bool, evaluate: bool, document_ids: tuple[int, ...],
             folds: int, as_json: bool) -> None:
    from dms.classify.registry import load_active
    from dms.db.session import session_scope

    svc = c.services
    with session_scope(svc.sessions) as s:
        _, status = load_active(s, svc.store)
    click.echo(f"classifier: {status.message}", err=status.degraded)
    if retrain:
        from dms.classify.training import retrain as do_retrain

        row = do_retrain(svc, force=True)
        if row is None:
            click.echo(f"not trained: fewer than {svc.settings.classify_min_training_docs} "
                       "confirmed documents of at least two types; rules stay in charge")
        else:
            click.echo(f"model v{row.version} trained on {row.n_documents} documents "
                       f"(cross-validated accuracy {row.metrics.get('cv_accuracy', '-')})")
    if evaluate:
        _evaluate(c, folds, as_json)
    for doc_id in document_ids:
        _classify_one(c, doc_id, as_json)


def _evaluate(c: CliContext, folds: int, as_json: bool) -> None:
    from dms.classify.metrics import format_report
    from dms.classify.training import evaluate

    rep = evaluate(c.services, folds=folds)
    if as_json:
        click.echo(json.dumps(rep, ensure_ascii=False, indent=2))
        return
    click.echo(f"{rep['n_documents']} confirmed documents")
    click.echo(format_report("rules only", rep["rules"]))
    if "model" in rep:
        click.echo(format_report(f"learned model ({folds}-fold cross-validated)", rep["model"]))


def _classify_one(c: CliContext, doc_id: int, as_json: bool) -> None:
    from functools import partial

    from dms.db.session import after_commit, session_scope
    from dms.services.classification import classify_document, facts_of

    svc = c.services
    with session_scope(svc.sessions) as s:
        pred = classify_document(s, svc, doc_id, actor="cli")
        facts = {f.field: {"value": f.value, "page": f.page_no, "bbox": f.bbox, "flag": f.flag}
                 for f in facts_of(s, doc_id)}
        after_commit(s, partial(_reindex, svc, doc_id))
    out = {"document": doc_id, "doc_type": pred.doc_type if pred else None,
           "confidence": round(pred.confidence, 4) if pred else None,
           "method": pred.method if pred else "not OCRed yet",
           "runners_up": pred.runners_up(3) if pred else [], "facts": facts}
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    click.echo(f"document {doc_id}: {out['doc_type'] or '(no type: review)'} "
               f"{out['confidence']} via {out['method']}; runners-up {out['runners_up']}")
    for name, f in facts.items():
        flag = f" ⚑ {f['flag']}" if f["flag"] else ""
        click.echo(f"  {name}: {f['value']} (page {f['page']}){flag}")


def _reindex(svc: Services, doc_id: int) -> None:
    from dms.db.session import session_scope
    from dms.services.indexing import index_document

    with session_scope(svc.sessions) as s:
        index_document(s, svc.index, doc_id)
