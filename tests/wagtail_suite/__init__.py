"""Wagtail's own test suite, run with wagtail-personalize installed (``make test-wagtail``)."""
