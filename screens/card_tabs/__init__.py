"""The tabs of the card editor (screens/card.py), one module per group of related tabs."""
