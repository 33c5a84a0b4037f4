"""The join form: Wizarr's rules for user names and passwords."""
from __future__ import annotations

import re

from django import forms

USERNAME_RE = re.compile(r"^[\w'.-]+$")


class JoinForm(forms.Form):
    username = forms.CharField(min_length=3, max_length=15, strip=True,
                               help_text="3 to 15 letters, digits, or ' . - _")
    email = forms.EmailField(max_length=254)
    password = forms.CharField(min_length=8, max_length=128, strip=False, widget=forms.PasswordInput,
                               help_text="At least 8 characters, with an upper-case letter, a lower-case letter and a digit.")
    password_confirm = forms.CharField(label="Confirm password", strip=False, max_length=128,
                                       widget=forms.PasswordInput)

    def __init__(self, *args, accounts: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not accounts:  # a Plex-only invitation: the Plex account is the account
            for name in ("username", "password", "password_confirm"):
                del self.fields[name]
            self.fields["email"].required = False

    def clean_username(self):
        value = self.cleaned_data["username"]
        if not USERNAME_RE.match(value):
            raise forms.ValidationError("Use only letters, digits and ' . - _ in the user name.")
        return value

    def clean_password(self):
        value = self.cleaned_data["password"]
        if not (re.search(r"[A-Z]", value) and re.search(r"[a-z]", value) and re.search(r"\d", value)):
            raise forms.ValidationError("The password needs an upper-case letter, a lower-case letter and a digit.")
        return value

    def clean(self):
        data = super().clean()
        if "password" in self.fields and data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", "The two passwords differ.")
        return data


class CodeForm(forms.Form):
    code = forms.CharField(min_length=6, max_length=10, strip=True, label="Invitation code")
