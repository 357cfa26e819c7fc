"""The tabs of the card editor (screens/card/screen.py), one module per group of related tabs."""
