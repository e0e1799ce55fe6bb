"""subgen: spec-driven CDISC submission dataset generator."""

__version__ = "0.1.0"
