"""The learned document-type classifier and its tooling (see dms.classify.model)."""
