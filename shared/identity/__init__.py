"""Identity and access for every service: who the caller is (bearer JWT access tokens
from the platform's OpenID issuer), and what they may do (one policy table in data)."""
