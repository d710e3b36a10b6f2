"""Login, navigation to every app, language switch and the error pages."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from conftest import DEMO_PASSWORD
from tmcs.context_processors import NAVIGATION
from tmcs.views import server_error

APP_PAGES = [f"/{namespace}/" for namespace, _label, _icon in NAVIGATION]


@pytest.mark.parametrize("url", ["/", "/system/", *APP_PAGES])
def test_pages_require_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_login_page_is_chinese_by_default(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录两山合作社平台" in html


def test_wrong_password_is_explained_in_chinese(client, demo_region):
    response = client.post("/accounts/login/", {"username": "city_admin", "password": "wrong-password"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_then_dashboard_shows_real_counts(client, demo_region):
    response = client.post("/accounts/login/", {"username": "city_admin", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    html = client.get("/").content.decode()
    assert "工作台" in html
    assert 'id="stat-divisions">12<' in html  # Lishui, nine counties, the demo township and village
    assert "丽水市两山合作社（演示） · 市级合作社管理员" in html
    for namespace, _label, _icon in NAVIGATION:
        assert f'href="/{namespace}/"' in html


# The heading each app's landing page shows (the registry opens on its assets, valuation on its runs).
APP_HEADINGS = {"resources": "资源资产", "valuation": "核算批次"}


@pytest.mark.parametrize(("namespace", "label"), [(ns, label) for ns, label, _icon in NAVIGATION])
def test_every_app_page_renders_for_a_member(client, county_staff, namespace, label):
    client.force_login(county_staff)
    response = client.get(f"/{namespace}/")
    assert response.status_code == 200
    html = response.content.decode()
    heading = html.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert APP_HEADINGS.get(namespace, str(label)) in heading


def test_county_staff_sees_only_their_county(client, county_staff):
    client.force_login(county_staff)
    html = client.get("/directory/").content.decode()
    assert "莲都区" in html
    assert "青田县" not in html and "丽水市" not in html.split("<main")[1].split("</table>")[0]


def test_logout_is_a_post(client, city_admin):
    client.force_login(city_admin)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_validates_strength(client, city_admin):
    client.force_login(city_admin)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": DEMO_PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "密码太短，至少需要 10 个字符。" in html
    city_admin.refresh_from_db()
    assert city_admin.check_password(DEMO_PASSWORD)


def test_language_switch_to_english_and_back(client, city_admin):
    client.force_login(city_admin)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Dashboard" in html and "Resource Registry" in html
    assert "工作台" not in html
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get("/").content.decode()
    assert "工作台" in html and "Dashboard" not in html


def test_language_switch_works_before_login(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/"})
    assert (
        "Log in to the Two Mountains Cooperative Platform" in client.get("/accounts/login/").content.decode()
    )


def test_404_page_is_chinese(client, city_admin):
    client.force_login(city_admin)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_404_for_anonymous_users_still_redirects_to_login(client, db):
    # Unknown URLs must not reveal which pages exist to someone not signed in.
    assert client.get("/no-such-page/").status_code in (302, 404)


def test_403_page_for_non_administrators(client, county_staff):
    client.force_login(county_staff)
    response = client.get("/system/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "无权访问" in html
    assert "只有市级合作社管理员可以查看系统状态" in html


def test_system_status_for_city_admin(client, city_admin):
    client.force_login(city_admin)
    html = client.get("/system/").content.decode()
    assert "数据库（PostGIS）" in html and "清理过期会话" in html
    fragment = client.get("/system/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith("<ul") and "<html" not in fragment


def test_500_page_is_chinese_and_standalone(db):
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "服务器内部错误" in response.content.decode()


def test_500_under_api_is_json(db):
    response = server_error(RequestFactory().get("/api/v1/anything/"))
    assert response.status_code == 500
    assert b'"code": "server_error"' in response.content


def test_time_zone_and_language(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "en"]


def test_english_browser_still_gets_chinese_pages_but_api_honours_accept_language(client, city_admin):
    client.force_login(city_admin)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in html
    client.logout()
    body = client.get("/api/v1/directory/divisions/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["detail"] == "Authentication credentials were not provided."
    body = client.get("/api/v1/directory/divisions/").json()
    assert body["detail"] == "身份认证信息未提供。"
