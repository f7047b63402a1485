"""A password hasher for tests that counts the passwords checked during a burst of sign-ins."""

import threading
import time

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingHasher(MD5PasswordHasher):
    """Django's MD5 hasher (what the tests use) that counts every password it checks or hashes,
    each taking half a second: long enough for every request of a burst to be under way before
    the first check ends, as under a real attack on a slow hash."""

    algorithm = "counted_md5"
    checks = 0
    _lock = threading.Lock()

    @classmethod
    def start_counting(cls):
        with cls._lock:
            cls.checks = 0

    def encode(self, password, salt):
        # Once per password checked: ``verify`` hashes the password typed with the stored salt,
        # and for an account that does not exist Django hashes it all the same.
        with CountingHasher._lock:
            CountingHasher.checks += 1
        time.sleep(0.5)
        return super().encode(password, salt)
