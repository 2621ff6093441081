"""Password policy (OWASP ASVS 4.0 level 1, V2.1): 12 to 128 characters, not the user name, not guessable.

"Guessable" is judged by zxcvbn (Dropbox's estimator, pip ``zxcvbn``): it ships frequency lists of common
passwords, names and words and estimates the guesses an attacker needs; a score below 2 (fewer than about 10^6
guesses, e.g. ``password1234``, ``qwertyuiop123``, ten spaces) is refused. It runs offline, so nothing is sent
anywhere (a breached-password web service would leave the hospital network).
"""

from __future__ import annotations

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128  # argon2 would take more, but a longer "password" is a paste accident or an attack
MIN_ZXCVBN_SCORE = 2


def check_password(password: object, username: str = "") -> None:
    """Raise ``ValueError`` saying what is wrong with ``password`` for ``username``; return ``None`` if acceptable."""
    if not isinstance(password, str):
        raise ValueError("a password must be text")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters, got {len(password)}")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password may have at most {MAX_PASSWORD_LENGTH} characters, got {len(password)}")
    if not password.strip():
        raise ValueError("a password cannot be only spaces")
    if username and username.lower() in password.lower():
        raise ValueError("a password must not contain the user name")
    from zxcvbn import zxcvbn

    result = zxcvbn(password, user_inputs=[username] if username else [])
    if result["score"] < MIN_ZXCVBN_SCORE:
        hint = result.get("feedback", {}).get("warning") or "it is too easy to guess"
        raise ValueError(f"that password is too common or too easy to guess ({hint.rstrip('.')}): choose another")
