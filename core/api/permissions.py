"""Who may write through the API: the editorial workflow's rules (core/workflow.py).

Anyone may read (what they see is narrowed by ``restrict``). Creating needs a curator with
the model's add permission; changing a record needs ``workflow.can_edit(user, obj)`` (curators
edit unpublished entries, editors also published ones); workflow steps need a curator (submit)
or an editor (publish, reject, withdraw).
"""

from rest_framework import permissions

from core import workflow

EDITOR_ACTIONS = {"publish", "reject", "withdraw"}


def _perm(action: str, model) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


class ReadAnyoneWriteCurators(permissions.BasePermission):
    message = "Your account may not change this record."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False  # DRF answers 401 with WWW-Authenticate: Token
        if not workflow.is_curator(user):
            return False
        if view.action == "create":
            return user.has_perm(_perm("add", view.get_queryset().model))
        if view.action in EDITOR_ACTIONS:
            return workflow.can_publish(user)
        return True

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        if view.action in EDITOR_ACTIONS:
            return workflow.can_publish(request.user)
        if view.action == "submit":
            return True  # workflow.submit() explains a refusal (409) better than a bare 403
        return workflow.can_edit(request.user, obj)
