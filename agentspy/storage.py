"""The media store: attachments on the local file system.

Attachments live at ``attachments/<run id>/<random name>``; deleting the last
file of a run would leave its folder behind, and a purge of a million runs a
million empty folders. Deleting a file here also removes the folders it leaves
empty, up to (not including) ``MEDIA_ROOT``.
"""

from __future__ import annotations

from pathlib import Path

from django.core.files.storage import FileSystemStorage


class MediaStorage(FileSystemStorage):
    def delete(self, name: str) -> None:
        super().delete(name)
        root = Path(self.location).resolve()
        folder = Path(self.path(name)).resolve().parent
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone): stop here
                break
            folder = folder.parent
