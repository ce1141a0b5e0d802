"""Faults with real processes (issue 14, item 7): nothing lost, nothing counted twice."""
