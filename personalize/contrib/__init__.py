"""Integrations with other Wagtail packages, each installed through its own extra.

Nothing else in the package imports from here: an integration is added by the site developer
(``INSTALLED_APPS`` or an import in their own schema) and builds on the public API only.
"""
