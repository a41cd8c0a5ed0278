# The portal's production image: gunicorn serves pages, whitenoise the static files.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml requirements.lock README.md ./
RUN pip install --no-cache-dir -c requirements.lock .

COPY . .
RUN DEBUG=0 SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && useradd --system --home /app wecity && mkdir -p /app/media && chown wecity /app/media
USER wecity

EXPOSE 8000
CMD ["gunicorn", "wecity.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--control-socket", "/tmp/gunicorn.ctl", "--access-logfile", "-"]
