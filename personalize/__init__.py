"""wagtail-personalize: segment-based personalization for Wagtail."""

__version__ = "0.1.0"
