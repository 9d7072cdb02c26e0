"""A 5x7 bitmap font for the offline image model: printable ASCII ' ' to 'Z'.

The classic public-domain "glcdfont" shapes (the one in countless LCD drivers): each
glyph is five columns, each column a byte whose bit 0 is the top row of seven. Lower
case is drawn as upper case; anything else outside the table as '?'. Small enough to
read in a test, large enough to read on a 256-pixel picture at 2x.
"""

from __future__ import annotations

import unicodedata

WIDTH = 5
HEIGHT = 7
_FIRST = 0x20
_COLUMNS = bytes.fromhex(
    "0000000000" "00005f0000" "0007000700" "147f147f14" "242a7f2a12"  # space ! " # $
    "2313086462" "3649562050" "0005030000" "001c224100" "0041221c00"  # % & ' ( )
    "2a1c7f1c2a" "08083e0808" "0050300000" "0808080808" "0060600000"  # * + , - .
    "2010080402" "3e5149453e" "00427f4000" "4261514946" "2141454b31"  # / 0 1 2 3
    "1814127f10" "2745454539" "3c4a494930" "0171090503" "3649494936"  # 4 5 6 7 8
    "064949291e" "0036360000" "0056360000" "0814224100" "1414141414"  # 9 : ; < =
    "0041221408" "0201510906" "3249794136" "7e1111117e" "7f49494936"  # > ? @ A B
    "3e41414122" "7f4141221c" "7f49494941" "7f09090901" "3e4149497a"  # C D E F G
    "7f0808087f" "00417f4100" "2040413f01" "7f08142241" "7f40404040"  # H I J K L
    "7f020c027f" "7f0408107f" "3e4141413e" "7f09090906" "3e4151215e"  # M N O P Q
    "7f09192946" "4649494931" "01017f0101" "3f4040403f" "1f2040201f"  # R S T U V
    "3f4038403f" "6314081463" "0708700807" "6151494543"                # W X Y Z
)
_LAST = _FIRST + len(_COLUMNS) // WIDTH - 1


def printable(text: str) -> str:
    """``text`` as the font can draw it: accents dropped (NFKD), upper case, unknown
    characters as '?', whitespace as single spaces."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(ch):
            continue
        ch = " " if ch.isspace() else ch.upper()
        out.append(ch if _FIRST <= ord(ch) <= _LAST else "?")
    return "".join(out)


def glyph(ch: str) -> list[str]:
    """The glyph of one drawable character as seven rows of five '#'/'.' (top first)."""
    code = ord(ch) if _FIRST <= ord(ch) <= _LAST else ord("?")
    start = (code - _FIRST) * WIDTH
    columns = _COLUMNS[start:start + WIDTH]
    return ["".join("#" if column >> row & 1 else "." for column in columns)
            for row in range(HEIGHT)]
