"""Client public key sets (JWKS): checked at registration, used to verify client assertions."""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

# SMART Backend Services requires servers to support exactly these two.
ALGORITHMS = ("RS384", "ES384")
_KTY_FOR_ALG = {"RS384": "RSA", "ES384": "EC"}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
MIN_RSA_BITS = 2048


class JwksError(ValueError):
    """A key set (or key) that cannot be accepted; the message says which key and why."""


def check_jwks(jwks: Any) -> dict[str, Any]:
    """Validate a client's public JWKS and return it; raise JwksError on the first problem.

    Only public RSA (>= 2048 bits) and EC P-384 signing keys with distinct ``kid`` are accepted,
    so any key in the set can verify RS384 or ES384 assertions.
    """
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise JwksError('a JWKS is an object with a non-empty "keys" array')
    seen: set[str] = set()
    for index, key in enumerate(jwks["keys"]):
        where = f"keys[{index}]"
        if not isinstance(key, dict):
            raise JwksError(f"{where} is not an object")
        kid = key.get("kid")
        if not isinstance(kid, str) or not kid:
            raise JwksError(f'{where} has no "kid"; assertions name their key by kid')
        if kid in seen:
            raise JwksError(f"{where}: kid {kid!r} is used twice")
        seen.add(kid)
        private = [m for m in _PRIVATE_MEMBERS if m in key]
        if private:
            raise JwksError(
                f"{where} ({kid}) contains private key material ({', '.join(private)}); "
                "register the public key only"
            )
        if key.get("use", "sig") != "sig":
            raise JwksError(f'{where} ({kid}): "use" must be "sig"')
        alg = key.get("alg")
        kty = key.get("kty")
        if alg is not None and alg not in ALGORITHMS:
            raise JwksError(f"{where} ({kid}): alg {alg!r} is not one of {', '.join(ALGORITHMS)}")
        if kty not in ("RSA", "EC"):
            raise JwksError(f"{where} ({kid}): kty must be RSA or EC")
        if alg is not None and _KTY_FOR_ALG[alg] != kty:
            raise JwksError(f"{where} ({kid}): alg {alg} does not fit kty {kty}")
        _load(key, "RS384" if kty == "RSA" else "ES384", where)
    return jwks


def _load(key: dict[str, Any], alg: str, where: str) -> Any:
    try:
        loaded = jwt.PyJWK(key, alg).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
        raise JwksError(
            f"{where} ({key.get('kid')}): not a usable {key.get('kty')} key: {exc}"
        ) from exc
    if isinstance(loaded, rsa.RSAPublicKey) and loaded.key_size < MIN_RSA_BITS:
        raise JwksError(f"{where} ({key.get('kid')}): RSA keys need at least {MIN_RSA_BITS} bits")
    if isinstance(loaded, ec.EllipticCurvePublicKey) and loaded.curve.name != "secp384r1":
        raise JwksError(f"{where} ({key.get('kid')}): EC keys must be on P-384 for ES384")
    if not isinstance(loaded, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise JwksError(f"{where} ({key.get('kid')}): not a public key")
    return loaded


def verification_key(jwks: dict[str, Any], kid: str, alg: str) -> Any:
    """The public key with ``kid`` for verifying an ``alg`` signature; JwksError when none fits."""
    if alg not in ALGORITHMS:
        raise JwksError(f"alg {alg!r} is not accepted; use {' or '.join(ALGORITHMS)}")
    for key in jwks.get("keys", []):
        if key.get("kid") == kid:
            if key.get("kty") != _KTY_FOR_ALG[alg] or key.get("alg", alg) != alg:
                raise JwksError(f"key {kid!r} cannot verify {alg}")
            return _load(key, alg, f"key {kid!r}")
    raise JwksError(f"no registered key has kid {kid!r}")
