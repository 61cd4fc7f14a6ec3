"""The plugin's own tests run on Kundenakte's fixtures (``ka``, ``people``, ``app``, …).

``kundenakte.testing`` is a pytest plugin installed with Kundenakte (entry point ``pytest11``), so
nothing needs to be named here; naming it as well would register it twice.
"""
