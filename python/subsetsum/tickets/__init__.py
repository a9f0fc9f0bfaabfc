"""Strong lottery tickets, built as stages (one module each, data flowing one way):

options (:mod:`.options`) -> target graph (:mod:`.graph`) -> plan (:mod:`.plan`: roles from
:mod:`.methods`, sizes from :mod:`.sizing`, tolerances from :mod:`.bounds`) -> source
(:mod:`.source`) -> solve (:mod:`.solve`, rows and groups in :mod:`.layout`) -> repair
(:mod:`.repair`) -> :class:`~.ticket.Ticket`, driven by :func:`~.construct.construct_ticket`.
Kept edges are held by row throughout (:mod:`.edges`).
"""

from .construct import construct_ticket
from .edges import KeptEdges
from .methods import METHODS
from .options import TicketOptions, TicketToleranceError, TicketWarning
from .ticket import LayerStats, Ticket, TicketReport

__all__ = ["construct_ticket", "Ticket", "TicketReport", "LayerStats", "KeptEdges", "METHODS", "TicketOptions",
           "TicketWarning", "TicketToleranceError"]
