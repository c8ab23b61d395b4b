"""The editors' simulated visitor: ``request.visitor`` built from chosen signals, not the request's.

An editor (a user who may use the Wagtail admin, :func:`may_view_as`) keeps a
:class:`~personalize.visitors.simulation.Simulation` in their session; every request of theirs
then gets a :class:`SimulatedVisitor`. It goes through the real decision path (the context is
built by :func:`~personalize.visitors.context.build_context`, the live segments resolve it, and
blocks, gates and explanations read it as they read any visitor), but it is not a real visitor
(:attr:`~personalize.visitors.visitor.Visitor.is_real` is False): nothing is stored, tracked or
counted for it, it gets no visitor id and no cookie, and no cache keeps a page made for it.

The ``pz_view_as`` query parameter starts a "view as <segment>" simulation the same way.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from personalize.profiles.scoring import current_config
from personalize.signals.consent import ConsentState
from personalize.visitors.context import VisitorContext, build_context
from personalize.visitors.identity import cookie_secure
from personalize.visitors.registry import current_segments
from personalize.visitors.simulation import (
    Simulation,
    read_simulation,
    simulated_consent,
    simulated_profile,
)
from personalize.visitors.stand_in import real_user
from personalize.visitors.visitor import Visitor

#: Query parameter with which editors view a live page as a segment ("-": as nobody). It starts
#: a "view as" simulation that lasts until the editor exits it.
VIEW_AS_PARAMETER = "pz_view_as"
#: The session key holding the editor's simulation.
SESSION_KEY = "personalize_simulation"
#: Set on the editor's browser while they simulate. Only a request that carries it has its
#: session read for a simulation, so visitors with a session of their own (a basket, say) pay
#: no session read for the simulator. It grants nothing: the simulation, its editor and their
#: permission are checked in the session.
HINT_COOKIE = "pz_simulating"
#: Request attribute: a "view as" started in this request (the response sets the hint cookie).
_STARTED = "_personalize_simulation_started"


def editor_of(request: HttpRequest) -> Any:
    """The request's user; while a page renders signed out for them, the editor behind it."""
    return real_user(getattr(request, "user", None))


def may_view_as(request: HttpRequest) -> bool:
    """Only users who may use the Wagtail admin can see pages as another audience."""
    user = editor_of(request)
    if user is None or not user.is_authenticated:
        return False
    return bool(user.has_perm("wagtailadmin.access_admin"))


class SimulatedVisitor(Visitor):
    """A visitor an editor simulates: the request's visitor, from the simulation's signals.

    With ``simulation.view_as`` set, the visitor is forced into that segment and its attributes
    are read from the request, as in a preview.

    Args:
        request: the editor's request.
        simulation: what to simulate.
        now: the current time (the simulation's own date and time win).
    """

    def __init__(
        self, request: HttpRequest, simulation: Simulation, now: datetime | None = None
    ) -> None:
        super().__init__(request, now, as_segments=_forced_segments(simulation))
        #: What is simulated.
        self.simulation = simulation

    @property
    def is_real(self) -> bool:
        """Never: nothing is stored, counted or shared for a simulated visitor."""
        return False

    @property
    def simulates_signals(self) -> bool:
        """Whether the attributes come from the simulation (else: "view as", the request's)."""
        return self.simulation.view_as is None

    @cached_property
    def consent(self) -> ConsentState:
        """What the simulated visitor allowed."""
        if not self.simulates_signals:
            return super().consent
        return simulated_consent(self.simulation)

    @cached_property
    def visitor_id(self) -> str | None:
        """None: a simulated visitor has no id."""
        return None

    def ensure_visitor_id(self) -> str | None:
        """None: no id is ever minted for a simulated visitor."""
        return None

    def profile_attributes(self) -> dict[str, Any]:
        """The simulated profile's ``visitor.*`` attributes."""
        if not self.simulates_signals:
            return super().profile_attributes()
        return simulated_profile(self.simulation, current_config().stages)

    @cached_property
    def context(self) -> VisitorContext:
        """The context built from the simulation's signals."""
        if not self.simulates_signals:
            return super().context
        return build_context(
            self._request,
            self._now,
            simulation=self.simulation,
            consent=self.consent,
            profile=self.profile_attributes(),
        )

    @cached_property
    def user_groups(self) -> frozenset[str]:
        """The simulated groups (when signed in)."""
        self.used = True
        return frozenset(self.simulation.groups) if self.authenticated else frozenset()

    @property
    def authenticated(self) -> bool:
        """Whether the simulated visitor is signed in ("view as": never)."""
        self.used = True
        return self.signed_in

    @property
    def signed_in(self) -> bool:
        """Whether the simulated visitor is signed in, without counting as a use.

        A visitor who is not (and every "view as") gets pages rendered signed out, with a
        stand-in for ``request.user`` (:mod:`personalize.visitors.stand_in`); a signed-in one
        is rendered with the editor's own user.
        """
        return self.simulates_signals and self.simulation.logged_in


def _forced_segments(simulation: Simulation) -> frozenset[int] | None:
    """The segments "view as" forces (none when the segment is gone), or None."""
    if simulation.view_as is None:
        return None
    segment = current_segments().get(simulation.view_as)
    return frozenset({segment.id}) if segment is not None else frozenset()


def stored_simulation(request: HttpRequest) -> Simulation | None:
    """The simulation the request's editor keeps in their session, or None.

    A request without the hint cookie (:data:`HINT_COOKIE`) or a session costs nothing; a
    simulation kept for another user, or for a user who may no longer use the admin, is
    ignored.
    """
    hinted = HINT_COOKIE in request.COOKIES or started_simulating(request)
    if not hinted or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    session = getattr(request, "session", None)
    if session is None:
        return None
    simulation = read_simulation(session.get(SESSION_KEY))
    if simulation is None or not may_view_as(request):
        return None
    return simulation if simulation.user_id == getattr(editor_of(request), "pk", None) else None


def save_simulation(request: HttpRequest, simulation: Simulation) -> None:
    """Keep ``simulation`` for the request's editor, in their session.

    The response must set the hint cookie (:func:`hint_simulating`).
    """
    request.session[SESSION_KEY] = simulation.to_data()
    request.__dict__[_STARTED] = True


def hint_simulating(request: HttpRequest, response: HttpResponse, on: bool) -> None:
    """Set (``on``) or delete the hint cookie that makes later requests look for a simulation."""
    if on:
        response.set_cookie(
            HINT_COOKIE, "1", httponly=True, samesite="Lax", secure=cookie_secure(request)
        )
    else:
        response.delete_cookie(HINT_COOKIE, samesite="Lax")


def started_simulating(request: HttpRequest) -> bool:
    """Whether this request started a simulation (its response must set the hint cookie)."""
    return bool(request.__dict__.get(_STARTED))


def stop_simulation(request: HttpRequest) -> bool:
    """End the editor's simulation. Returns whether one was running."""
    session = getattr(request, "session", None)
    return session is not None and session.pop(SESSION_KEY, None) is not None


def view_as_simulation(request: HttpRequest) -> Simulation | None:
    """The "view as" an editor asked for with ``pz_view_as``, or None.

    Unknown segments and non-editors are ignored (the page is served as it would be without
    the parameter).
    """
    slug = request.GET.get(VIEW_AS_PARAMETER)
    if not slug or len(slug) > 255 or not may_view_as(request):
        return None
    if slug != "-" and current_segments().get(slug) is None:
        return None
    user_id: int = editor_of(request).pk
    return Simulation(user_id=user_id, view_as=slug)


def request_visitor(request: HttpRequest) -> Visitor:
    """The visitor a request is served for: the editor's simulation, or the real visitor.

    A ``pz_view_as`` parameter starts a "view as" simulation and keeps it in the session, so
    it lasts while the editor navigates.
    """
    simulation = view_as_simulation(request)
    if simulation is None:
        simulation = stored_simulation(request)
    elif getattr(request, "session", None) is not None and stored_simulation(request) != simulation:
        save_simulation(request, simulation)
    return SimulatedVisitor(request, simulation) if simulation is not None else Visitor(request)


def preview_visitor(request: HttpRequest) -> SimulatedVisitor:
    """The simulated visitor of a preview: the editor's simulation, or a blank one."""
    simulation = stored_simulation(request)
    if simulation is None:
        simulation = Simulation(user_id=getattr(editor_of(request), "pk", None) or 0)
    return SimulatedVisitor(request, simulation)
