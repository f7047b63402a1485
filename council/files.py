"""Files in the store (``STORAGES["default"]``: the ``MEDIA_ROOT`` folder, or a store several
machines share), saved and read so that:

- a store that cannot be reached is a clear answer in the reader's language — a form error
  when saving (``StoreUnavailable`` is an ``InvalidMove``, which every form already shows),
  the busy page (503) when reading — never a 500;
- an act that fails after saving a file leaves no file behind: the files saved inside
  ``stored_files_atomic`` are deleted again if it ends with an error, since the rows that
  named them are rolled back with it.

Every save of an upload or a published PDF goes through ``stored_file_save`` inside
``stored_files_atomic``, and every read through ``stored_file_open``.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext

from .errors import StoreUnavailable

logger = logging.getLogger("weishi.files")

_scope = threading.local()


@contextlib.contextmanager
def stored_files_atomic():
    """A transaction (``transaction.atomic``) whose saved files are deleted again if it ends
    with an error. Nested ones share the outermost's list, and only the outermost deletes: a
    file saved by an inner act that succeeded must still go if the whole fails later (the
    upload of several files is one act). Usable as a decorator, like ``atomic``."""
    outermost = getattr(_scope, "saved", None) is None
    if outermost:
        _scope.saved = []
    try:
        with transaction.atomic():
            yield
    except BaseException:
        if outermost:
            _delete_quietly(_scope.saved)
        raise
    finally:
        if outermost:
            _scope.saved = None


def stored_file_save(field, name: str, content) -> None:
    """Save ``content`` as ``field``'s file (the row itself is saved by the caller), inside
    ``stored_files_atomic``. ``StoreUnavailable`` if the store refuses or cannot be reached."""
    saved = getattr(_scope, "saved", None)
    if saved is None:
        raise RuntimeError("stored_file_save is called inside stored_files_atomic")
    try:
        field.save(name, content, save=False)
    except Exception as error:  # noqa: BLE001 - a store's errors have no common base class
        logger.warning(
            "The file store refused to save %s (%s: %s)", name, type(error).__name__, error
        )
        raise StoreUnavailable() from error
    saved.append((field.storage, field.name))


def stored_file_open(field):
    """``field``'s file opened for reading: ``Http404`` if it has none or it is gone from the
    store, ``StoreUnavailable`` if the store cannot be reached."""
    if not field:
        raise Http404
    try:
        return field.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    except Exception as error:  # noqa: BLE001 - a store's errors have no common base class
        logger.warning(
            "The file store could not open %s (%s: %s)", field.name, type(error).__name__, error
        )
        raise StoreUnavailable(
            gettext(
                "The place where files are kept cannot be reached just now. Please try again "
                "in a few minutes."
            )
        ) from error


def _delete_quietly(saved: list) -> None:
    for storage, name in saved:
        try:
            storage.delete(name)
        except Exception as error:  # noqa: BLE001 - the act's own error is the one to raise
            logger.warning("A file saved by a failed act stays in the store: %s (%s)", name, error)
