"""Keys of the network: the province linkage pseudonym, its check value, the uplink's signing key.

The key hierarchy is written down in facade/network/README.md ("Keys"). In short: each platform
keeps its own regional pseudonym key; the province's *linkage key* is the same at every facade of
the province and gives the province pseudonym, computed from the identity number at intake (the
only moment it is known) and never from another pseudonym; the parent re-keys what it receives
with its own storage key before keeping it.
"""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from facade.backup.manifest import key_check_value
from facade.privacy.pseudonym import normalise_id_number

ASSERTION_ALG = "ES384"
# Domain labels: a linkage key that happened to equal some platform's regional key would still
# give different values, and a stored value never equals one received.
_LINKAGE_LABEL = "vte-linkage/v1"
_STORAGE_LABEL = "vte-linkage-store/v1"
_STAY_LABEL = "vte-linkage-stay/v1"


def _mac(key: bytes, message: str) -> str:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(message.encode("utf-8"))
    return mac.finalize().hex()


def province_pseudonym(id_type: str, id_number: str, linkage_key: bytes) -> str:
    """The province pseudonym of an identity document (64 hex), the same at every facade."""
    return _mac(linkage_key, f"{_LINKAGE_LABEL}|{id_type}|{normalise_id_number(id_number)}")


def linkage_check(linkage_key: bytes) -> str:
    """The key check value a child sends with its linkage data (16 hex, reveals nothing)."""
    return key_check_value(linkage_key)


def stored_person(person: str, storage_key: bytes) -> str:
    """What the parent keeps of a received province pseudonym: re-keyed with its own key, so its
    database never holds a value computed with the distributed linkage key (64 hex)."""
    return _mac(storage_key, f"{_STORAGE_LABEL}|{person}")


def stay_token(reference: str, key: bytes) -> str:
    """An opaque, stable token for one of this platform's stays (``Encounter/<id>``), 32 hex."""
    return _mac(key, f"{_STAY_LABEL}|{reference}")[:32]


def new_assertion_key() -> str:
    """A fresh EC P-384 private key (PEM) for ES384 client assertions."""
    private = ec.generate_private_key(ec.SECP384R1())
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def load_assertion_key(pem: str) -> ec.EllipticCurvePrivateKey:
    """The private key of a PEM text; ValueError when it is not an EC P-384 key."""
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp384r1":
        raise ValueError("the uplink private key must be an EC P-384 key (ES384)")
    return key


def public_jwks(pem: str, kid: str) -> dict[str, Any]:
    """The public JWKS the parent registers for this platform (never the private half)."""
    key = load_assertion_key(pem)
    jwk: dict[str, Any] = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": kid, "alg": ASSERTION_ALG, "use": "sig"})
    return {"keys": [jwk]}
