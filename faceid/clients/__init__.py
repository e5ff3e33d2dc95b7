"""Clients of the service that ship with it: the reference door client (``faceid door``).

Nothing here imports the server's code: a door needs only HTTP, a camera and this folder.
"""
