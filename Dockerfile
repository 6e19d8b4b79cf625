# Tally: a slim, non-root image running `tally serve`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    TALLY_HOST=0.0.0.0 TALLY_PORT=8000 TALLY_DATABASE_URL=sqlite:////data/tally.db

RUN useradd --create-home --uid 10001 tally && mkdir /data && chown tally /data
WORKDIR /app
COPY pyproject.toml alembic.ini ./
COPY app ./app
COPY migrations ./migrations
# Editable, so that app/ finds migrations/ beside it.
RUN pip install --no-cache-dir -e .

USER tally
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["tally", "serve"]
