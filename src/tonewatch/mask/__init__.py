"""mask stage of the tonewatch pipeline: personal data out before anything is stored or sent."""

from ._checks import iban_valid, luhn_valid, ssn_valid
from ._entities import KINDS, Entity, Masked, placeholder
from ._mask import mask_pii
from ._vault import RawTextVault

__all__ = [
    "KINDS",
    "Entity",
    "Masked",
    "RawTextVault",
    "iban_valid",
    "luhn_valid",
    "mask_pii",
    "placeholder",
    "ssn_valid",
]
