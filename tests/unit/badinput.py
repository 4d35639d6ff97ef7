"""Bad input shared by the issue #13 regression tests (each class of bad input is tested on the
pure code that handles it): every bad value is a Zun-shaped 4xx (never a 500), echoed bounded,
and nothing is silently accepted."""

HUGE = "9" * 5000
NASTY_NUMBERS = ["²", "1²", "٣", HUGE, "1\n", " 1", "-1", "1.5", "0x10", "", "1e3", "١٢"]
