from django.core.management.base import BaseCommand

from council import demo


class Command(BaseCommand):
    help = "Load the demo data (idempotent) and print one sign-in per role."

    def handle(self, *args, **options):
        sign_ins = demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Demo sign-ins (演示账号):"))
        self.stdout.write(f"  {'role':34} {'username':22} where")
        for role, username, where in sign_ins:
            self.stdout.write(f"  {role:34} {username:22} {where}")
        self.stdout.write(f"  password for every demo account: {demo.DEMO_PASSWORD}")
