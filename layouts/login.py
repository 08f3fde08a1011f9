"""The sign-in page: a server-rendered HTML form (Jinja, autoescaped) styled by the local CSS.

It is plain Flask, not Dash, so it works before any session exists and needs no JavaScript.
"""

from __future__ import annotations

LOGIN_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign in · {{ city_name }} Triage</title>
  <link rel="icon" href="{{ favicon }}">
  <link rel="stylesheet" href="{{ bootstrap_css }}">
  <link rel="stylesheet" href="{{ app_css }}">
</head>
<body class="login-body">
  <main class="login-main" id="main-content">
    <div class="login-card">
      <p class="login-brand"><span class="shell-brand-city">{{ city_name }}</span>
        <span class="shell-brand-app">Triage</span></p>
      <h1 class="login-title">Sign in</h1>
      <p class="login-lead">The mayor's office weekly view of the city's problems.</p>
      <div id="login-message" class="login-message" aria-live="assertive" role="alert">
        {%- if message %}<p class="notice tone-danger">{{ message }}</p>{% endif -%}
      </div>
      <form method="post" action="{{ action }}" class="login-form" novalidate>
        <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
        <input type="hidden" name="next" value="{{ next_path }}">
        <div class="form-field">
          <label class="form-label" for="login-username-input">Username</label>
          <input class="form-control" id="login-username-input" name="username" type="text"
                 autocomplete="username" autocapitalize="none" spellcheck="false" required
                 maxlength="64" value="{{ username }}" autofocus>
        </div>
        <div class="form-field">
          <label class="form-label" for="login-password-input">Password</label>
          <input class="form-control" id="login-password-input" name="password" type="password"
                 autocomplete="current-password" required maxlength="256">
        </div>
        <button class="btn btn-primary login-submit" id="login-submit-button" type="submit">
          Sign in</button>
      </form>
      {%- if demo_usernames %}
      <p class="login-hint">Demo city: sign in as {{ demo_usernames | join(", ") }}
        (the command line printed the passwords).</p>
      {%- endif %}
    </div>
  </main>
</body>
</html>
"""
