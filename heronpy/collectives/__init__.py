"""Collectives at run time: reduction ops and the round protocol of the nodes a task hosts.

The graphs themselves (which node runs where) come from ``heronpy.topology.collective``.
"""
