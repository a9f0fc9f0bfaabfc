"""Lottery-ticket constructions: the L+1 and 2L layer sequences, the shared layout and solving
machinery, activations and target networks (001_d33223a708772bec.txt, section 2)."""

from .activations import ACTIVATION_NAMES, Activation, get_activation
from .target import TargetNetwork, parse_target

__all__ = ["ACTIVATION_NAMES", "Activation", "get_activation", "TargetNetwork", "parse_target"]
