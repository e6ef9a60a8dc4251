"""Channels: the routes spam takes to recipients' servers, one module per channel."""

from .base import Channel, Route
from .botnet import Botnet
from .compromised_accounts import CompromisedAccounts
from .open_relays import OpenRelays
from .own_server import OwnServer

CHANNEL_CLASSES: dict[str, type[Channel]] = {
    "own_server": OwnServer,
    "open_relays": OpenRelays,
    "botnet": Botnet,
    "compromised_accounts": CompromisedAccounts,
}

__all__ = ["CHANNEL_CLASSES", "Botnet", "Channel", "CompromisedAccounts", "OpenRelays", "OwnServer", "Route"]
