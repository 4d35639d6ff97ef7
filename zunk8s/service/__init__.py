"""The service layer: Zun's operations on containers. ``services.py`` is the map (one object
per group of verbs); ``operations.py`` is the contract every action follows."""
