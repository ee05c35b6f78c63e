# Front-end assets from the npm registry, copied into static/vendor (never a CDN at run time).
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
RUN mkdir -p vendor/bootstrap vendor/bootstrap-icons/font vendor/htmx vendor/chartjs \
 && cp -r node_modules/bootstrap/dist/css node_modules/bootstrap/dist/js vendor/bootstrap/ \
 && cp -r node_modules/bootstrap-icons/font/bootstrap-icons.min.css node_modules/bootstrap-icons/font/fonts vendor/bootstrap-icons/font/ \
 && cp node_modules/htmx.org/dist/htmx.min.js vendor/htmx/ \
 && cp node_modules/chart.js/dist/chart.umd.min.js vendor/chartjs/

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.prod
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir .
COPY --from=assets /src/vendor static/vendor
# Build-time placeholders only: the real values come from the environment at run time.
RUN DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.db \
    sh -c "python manage.py compilemessages --ignore=.venv && python manage.py collectstatic --noinput"
RUN useradd --create-home app && chown -R app /app
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "180", "--access-logfile", "-"]
