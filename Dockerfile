# Monitor de quedas em massa — imagem de produção (gunicorn).
#
# O contêiner começa como root só para o entrypoint entregar as pastas de dados e logs
# (volumes ./data e ./logs, de quem clonou o repositório) ao usuário monitor (uid 10001);
# o processo roda como esse usuário. Iniciado com outro usuário, o entrypoint só confere.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    MONITOR_UID=10001 \
    MONITOR_GID=10001

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

RUN useradd --create-home --uid 10001 monitor
COPY --chown=monitor:monitor . .
RUN mkdir -p /app/data /app/logs && chown -R monitor:monitor /app/data /app/logs

VOLUME ["/app/data", "/app/logs"]
EXPOSE 5010

HEALTHCHECK --interval=60s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '5010'), timeout=4)" || exit 1

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "monitor_service:app"]
