"""Receipts for every vote and round ballot, and the format of each closed digest.

Every existing vote and approval ballot gets a receipt of its own (an ``AddField`` with a
callable default would give every row the same one). Ballots and rounds already closed keep
the digest they were published with — it is sealed in the evidence log and in published
disclosures — so they are marked as of the earlier format (member ids and choices); those still
open will close with the published list of receipts.
"""

from django.db import migrations, models

import voting.receipts

FORMAT_CHOICES = [
    ("receipts", "the published list of receipts' commitments"),
    ("members", "member ids and choices (before receipts)"),
]


def receipts_and_formats(apps, schema_editor):
    for name in ("Vote", "RoundBallot"):
        model = apps.get_model("voting", name)
        rows = list(model.objects.only("pk"))
        for row in rows:
            row.receipt = voting.receipts.receipt_new()
        model.objects.bulk_update(rows, ["receipt"], batch_size=500)
    for name in ("Ballot", "Round"):
        apps.get_model("voting", name).objects.filter(status="closed").update(
            votes_format="members"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("voting", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="ballot",
            name="votes_format",
            field=models.CharField(choices=FORMAT_CHOICES, default="receipts", max_length=10),
        ),
        migrations.AddField(
            model_name="round",
            name="votes_format",
            field=models.CharField(choices=FORMAT_CHOICES, default="receipts", max_length=10),
        ),
        migrations.AddField(
            model_name="roundballot",
            name="receipt",
            field=models.CharField(default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="vote",
            name="receipt",
            field=models.CharField(default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(receipts_and_formats, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="roundballot",
            name="receipt",
            field=models.CharField(
                default=voting.receipts.receipt_new, editable=False, max_length=32
            ),
        ),
        migrations.AlterField(
            model_name="vote",
            name="receipt",
            field=models.CharField(
                default=voting.receipts.receipt_new, editable=False, max_length=32
            ),
        ),
    ]
