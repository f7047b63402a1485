from django.urls import path

from .views import files, public, search, staff

C = "c/<slug:slug>/"
P = C + "projects/<id:pk>/"

urlpatterns = [
    # Public
    path("search/", search.search_page, name="search"),
    path("disclosures/", public.disclosure_index, name="disclosure_index"),
    path("disclosures/feed.atom", public.disclosure_feed, name="disclosure_feed"),
    path("disclosures/<id:pk>/", public.disclosure_detail, name="disclosure"),
    path("disclosures/<id:pk>/pdf/", files.disclosure_pdf_file, name="disclosure_pdf"),
    path("disclosures/<id:pk>/notice/", files.disclosure_notice, name="disclosure_notice"),
    path(P, public.project_detail, name="project"),
    path("providers/<id:pk>/", public.provider_detail, name="provider"),
    path("progress-photos/<id:pk>/", public.progress_photo, name="progress_photo"),
    path("progress-photos/<id:pk>/thumbnail/", public.progress_thumb, name="progress_thumb"),
    path("open-data/", public.open_data, name="open_data"),
    path("open-data/index.json", public.open_data_index, name="open_data_index"),
    path("open-data/<slug:name>.<slug:fmt>", public.open_data_file, name="open_data_file"),
    path("statistics/", public.statistics_district, name="statistics_district"),
    path(C + "statistics/", public.statistics_community, name="statistics"),
    # Staff and residents
    path(C + "queue/", staff.staff_queue, name="staff_queue"),
    path("districts/<id:pk>/", staff.district_dashboard, name="district_dashboard"),
    path("disclosures/<id:pk>/publish/", staff.publish, name="disclosure_publish"),
    path("disclosures/<id:pk>/correct/", staff.correct, name="disclosure_correct"),
    path("disclosures/<id:pk>/objections/", staff.objection_new, name="objection_lodge"),
    path("objections/<id:pk>/answer/", staff.objection_reply, name="objection_answer"),
    path(P + "progress/", staff.progress_new, name="progress_new"),
    path(C + "progress/import/", staff.progress_import, name="progress_import"),
    path(P + "completion/", staff.completion_new, name="completion_new"),
    path(P + "evaluate/", staff.evaluate, name="evaluate"),
    path(P + "evaluations/paper/", staff.evaluation_paper, name="evaluation_paper"),
    path(P + "evaluations/close/", staff.evaluation_close, name="evaluation_close"),
    path("evaluations/awaiting/", staff.evaluation_awaiting, name="evaluation_awaiting"),
]
