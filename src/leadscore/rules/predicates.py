"""Built-in negative signals: free email domains, keyboard mash and uncapitalised names."""

from __future__ import annotations

# Consumer mailbox providers; a business-to-business model usually scores them down.
# Override or extend in the rules file under `domains.free_email`.
FREE_EMAIL_DOMAINS: frozenset[str] = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "yahoo.es",
        "yahoo.it",
        "yahoo.co.jp",
        "yahoo.com.br",
        "yahoo.in",
        "ymail.com",
        "rocketmail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "hotmail.de",
        "hotmail.it",
        "hotmail.es",
        "outlook.com",
        "outlook.fr",
        "outlook.de",
        "live.com",
        "live.co.uk",
        "live.fr",
        "msn.com",
        "aol.com",
        "aim.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "tutanota.com",
        "tutanota.de",
        "tuta.io",
        "zoho.com",
        "zohomail.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "bk.ru",
        "inbox.ru",
        "list.ru",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "gmx.at",
        "gmx.ch",
        "web.de",
        "t-online.de",
        "freenet.de",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "laposte.net",
        "sfr.fr",
        "libero.it",
        "virgilio.it",
        "tiscali.it",
        "alice.it",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "talktalk.net",
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "bellsouth.net",
        "charter.net",
        "cox.net",
        "earthlink.net",
        "juno.com",
        "optonline.net",
        "rediffmail.com",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "fastmail.com",
        "fastmail.fm",
        "hushmail.com",
        "mail.com",
        "email.com",
        "usa.com",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "interia.pl",
        "onet.pl",
        "bigpond.com",
        "optusnet.com.au",
        "shaw.ca",
        "rogers.com",
        "sympatico.ca",
        "uol.com.br",
        "bol.com.br",
        "terra.com.br",
    ]
)

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890")
_MASH_LENGTH = 4


def _mash_grams() -> frozenset[str]:
    grams: set[str] = set()
    for row in _KEYBOARD_ROWS:
        for seq in (row, row[::-1]):
            for i in range(len(seq) - _MASH_LENGTH + 1):
                grams.add(seq[i : i + _MASH_LENGTH])
    return frozenset(grams)


_MASH_GRAMS = _mash_grams()


def keyboard_mash(value: str) -> str | None:
    """The first run of 4+ adjacent keyboard keys ("asdf", "lkjh") or one repeated letter
    ("aaaa") in `value`, or None."""
    text = value.lower()
    for i in range(len(text) - _MASH_LENGTH + 1):
        gram = text[i : i + _MASH_LENGTH]
        if gram in _MASH_GRAMS or (gram.isalpha() and gram == gram[0] * _MASH_LENGTH):
            return gram
    return None


def uncapitalised(value: str) -> bool:
    """True when a name starts with a lower-case letter ("john", not "John" or "de Vries"
    as a whole: only the first character is checked)."""
    stripped = value.strip()
    return bool(stripped) and stripped[0].isalpha() and stripped[0].islower()
