"""Data review report: one self-contained, offline HTML page per study for QA reviewers and statisticians."""
