import importlib
import importlib.util

from django.apps import apps
from django.core.management.base import BaseCommand

from council import demo
from council.evidence import evidence_integrate


def later_seeds():
    """Each later app's ``<app>.demo.seed``, in ``INSTALLED_APPS`` order (proposals, voting, …).

    Found by name, so that council, the lowest app, imports none of the apps built on it.
    """
    for config in apps.get_app_configs():
        if config.name == "council" or importlib.util.find_spec(f"{config.name}.demo") is None:
            continue
        yield importlib.import_module(f"{config.name}.demo").seed


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print one sign-in per role."

    def handle(self, *args, **options):
        sign_ins = demo.seed()
        for seed in later_seeds():
            seed()
        # Everything the demo did is in the log, signed, before anyone looks.
        evidence_integrate()
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Demo sign-ins (演示账户):"))
        self.stdout.write(f"  {'role':34} {'username':22} where")
        for role, username, where in sign_ins:
            self.stdout.write(f"  {role:34} {username:22} {where}")
        self.stdout.write(f"  password for every demo account: {demo.DEMO_PASSWORD}")
