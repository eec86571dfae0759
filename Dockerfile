# Monitor de quedas em massa — imagem de produção (gunicorn).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 \
    PORT=5010

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

RUN useradd --create-home --uid 10001 monitor
COPY --chown=monitor:monitor . .
RUN mkdir -p /app/data /app/logs && chown -R monitor:monitor /app/data /app/logs

USER monitor
VOLUME ["/app/data", "/app/logs"]
EXPOSE 5010

HEALTHCHECK --interval=60s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '5010'), timeout=4)" || exit 1

CMD ["gunicorn", "-c", "gunicorn.conf.py", "monitor_service:app"]
