"""GET /api/v1/directory/divisions/ (auth, scope, pagination, serialization) against the raw
SELECT of the same page with psycopg."""

import psycopg
from django.db import connection
from harness import measure, report
from rest_framework.test import APIClient

from directory.models import User
from directory.services import issue_api_token


def run():
    user = User.objects.get(username="city_admin")
    _token, raw = issue_api_token(user=user, name="benchmark")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

    def api_call():
        response = client.get("/api/v1/directory/divisions/")
        assert response.status_code == 200

    db = connection.settings_dict
    raw_conn = psycopg.connect(
        host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"]
    )

    def raw_select():
        with raw_conn.cursor() as cursor:
            cursor.execute(
                "SELECT d.code, d.name, d.level, p.code FROM directory_administrativedivision d "
                "LEFT JOIN directory_administrativedivision p ON p.id = d.parent_id "
                "WHERE d.code LIKE %s ORDER BY d.code LIMIT 50",
                ("3311%",),
            )
            cursor.fetchall()

    try:
        return report(
            "divisions list API (10 rows)", measure("api", api_call), measure("raw psycopg", raw_select)
        )
    finally:
        raw_conn.close()
        _token.delete()
