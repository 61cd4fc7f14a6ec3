"""The plugin's own tests run on Kundenakte's fixtures (``ka``, ``people``, ``app``, …).

``kundenakte.testing`` is a pytest plugin installed with Kundenakte (entry point ``pytest11``);
naming it here also works with an installation made before that entry point existed.
"""

pytest_plugins = ["kundenakte.testing"]
