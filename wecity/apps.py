from django.apps import AppConfig


class WecityConfig(AppConfig):
    """The project's own plumbing: connects the page cache's receivers."""

    name = "wecity"

    def ready(self):
        from wecity import pagecache_signals  # the apps' models are loaded only now

        pagecache_signals.connect()
