# Production image: Debian's GDAL/GEOS/PROJ for GeoDjango, Pango and a CJK font for WeasyPrint PDFs.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=tmcs.settings
RUN apt-get update \
 && apt-get install -y --no-install-recommends gdal-bin libgdal32 libgeos-c1v5 libproj25 gettext \
      libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY tmcs tmcs
COPY directory directory
COPY resources resources
COPY valuation valuation
COPY transactions transactions
COPY finance finance
COPY projects projects
COPY templates templates
COPY locale locale
COPY manage.py Procfile ./
RUN pip install --no-cache-dir . \
 && python manage.py compilemessages -v 0 \
 && DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0

RUN useradd --system --uid 1000 tmcs && mkdir -p /app/media && chown tmcs /app/media
USER tmcs
EXPOSE 8000
CMD ["gunicorn", "tmcs.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
