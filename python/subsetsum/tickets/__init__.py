"""Strong lottery tickets, built as stages (one module each, data flowing one way):

options -> target graph (:mod:`.graph`) -> plan (:mod:`.plan`, roles from :mod:`.methods`)
-> source (:mod:`.source`) -> solve -> :class:`~.ticket.Ticket`, driven by
:func:`~.construct.construct_ticket`.
"""

from .construct import construct_ticket
from .methods import METHODS
from .ticket import LayerStats, Ticket, TicketReport

__all__ = ["construct_ticket", "Ticket", "TicketReport", "LayerStats", "METHODS"]
