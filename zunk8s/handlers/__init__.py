"""The HTTP layer (aiohttp): parse, validate, make one service call, render."""
