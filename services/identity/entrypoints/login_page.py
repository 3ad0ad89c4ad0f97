"""The login form of GET/POST /authorize: Chinese first, English after; everything
inline (no CDN, no script), so it works on the county's closed network."""

from __future__ import annotations

from html import escape

# The OAuth parameters carried from GET /authorize to the form's POST, unchanged.
CARRIED = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method")

_STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;background:#f3f5f8;margin:0}
main{max-width:22rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.2rem;margin:0 0 1.5rem}h1 small{display:block;font-weight:normal;color:#555;font-size:.85rem}
label{display:block;margin:.8rem 0 .3rem}input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin-top:1.4rem;width:100%;padding:.6rem;font-size:1rem;background:#b22;color:#fff;border:0;border-radius:4px}
.error{background:#fde8e8;color:#900;padding:.6rem;border-radius:4px}
"""


def login_form(params: dict[str, str], error: str | None = None, username: str = "") -> str:
    hidden = "".join(f'<input type="hidden" name="{name}" value="{escape(params[name])}">' for name in CARRIED if params.get(name))
    error_html = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>登录 Sign in · 元氏县人口和计划生育局</title><style>{_STYLE}</style></head>
<body><main>
<h1>元氏县人口和计划生育局 平台<small>Yuanshi County Family Planning Bureau platform</small></h1>
{error_html}
<form method="post" action="authorize">
{hidden}
<label for="username">用户名 Username</label><input id="username" name="username" type="text" autocomplete="username" value="{escape(username)}" required autofocus>
<label for="password">密码 Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">登录 Sign in</button>
</form></main></body></html>"""


def error_page(message: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>错误 Error</title><style>{_STYLE}</style></head>
<body><main><h1>无法登录<small>Cannot sign in</small></h1><p class="error" role="alert">{escape(message)}</p></main></body></html>"""


def signed_out_page() -> str:
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>已退出 Signed out</title><style>{_STYLE}</style></head>
<body><main><h1>已退出登录<small>You are signed out</small></h1></main></body></html>"""
