"""The signed-out stand-in for an editor: pages rendered for a visitor who is not signed in.

A preview ("Default visitor", "As: <segment>", a simulated visitor who is not signed in), a
"view as" and a simulation of a signed-out visitor on the live site render with ``request.user``
set to a :class:`PreviewVisitorUser`: templates read as logged out ("Log in" rather than the
editor's name) while the editor stays behind it. :func:`rendered_as_anonymous` puts it in place
for the rendering only; :func:`real_user` finds the editor again where a permission check must
be answered for them (the debug page, the userbar's simulator entry).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest


class PreviewVisitorUser(AnonymousUser):
    """The logged-out visitor a page is rendered for, on an editor's behalf.

    Templates see an anonymous user: ``request.user.is_authenticated`` is False, so a header
    offers "Log in" rather than the editor's name. Only Wagtail's check that the user may use
    the admin is answered for the editor, so the userbar and its content checks still work
    (Wagtail 7.1 and later).

    Args:
        editor: the user who asked for the page (:attr:`editor`).
    """

    def __init__(self, editor: Any) -> None:
        #: The user who asked for the page.
        self.editor = editor

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        """Only ``wagtailadmin.access_admin``, and only as the editor has it."""
        if perm != "wagtailadmin.access_admin" or not _userbar_serves_anonymous_users():
            return False
        return bool(self.editor.has_perm(perm, obj))


@cache
def _userbar_serves_anonymous_users() -> bool:
    """Whether Wagtail's userbar renders for an anonymous user (7.1 and later: its ``Userbar``
    component). Wagtail 7.0 looks the user's profile up, so those pages go without it."""
    from wagtail.admin import userbar

    return hasattr(userbar, "Userbar")


def real_user(user: Any) -> Any:
    """The user behind ``user``: the editor a :class:`PreviewVisitorUser` stands in for.

    Args:
        user: ``request.user`` (or None).

    Returns:
        The editor for a stand-in, else ``user`` itself.
    """
    return user.editor if isinstance(user, PreviewVisitorUser) else user


@contextmanager
def rendered_as_anonymous(request: HttpRequest) -> Iterator[None]:
    """While rendering, ``request.user`` is a :class:`PreviewVisitorUser`; then the editor again.

    Permission checks before rendering (Wagtail's preview views, the simulator's session lookup)
    and the response middleware see the real user. A view that logs a user in or out while the
    stand-in is in place keeps the user it set. Nested uses keep the first stand-in.
    """
    editor = getattr(request, "user", None)
    if isinstance(editor, PreviewVisitorUser):
        yield
        return
    stand_in = PreviewVisitorUser(editor if editor is not None else AnonymousUser())
    request.user = stand_in
    try:
        yield
    finally:
        if getattr(request, "user", None) is stand_in:
            if editor is None:
                del request.user
            else:
                request.user = editor
