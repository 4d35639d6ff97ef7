"""The HTTP layer (aiohttp): parse, validate, call one service function, render."""
