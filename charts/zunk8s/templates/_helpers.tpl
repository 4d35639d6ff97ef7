{{/*
Names, labels and the chart's checks.
*/}}

{{- define "zunk8s.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name (63 characters at most: it names Services). */}}
{{- define "zunk8s.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Cluster-scoped objects (ClusterRole, admission policy) are named for the release and its
namespace: two releases of the same name in two namespaces must not share them. */}}
{{- define "zunk8s.clusterName" -}}
{{- printf "%s-%s" (include "zunk8s.fullname" .) .Release.Namespace | trunc 253 | trimSuffix "-" -}}
{{- end -}}

{{- define "zunk8s.redisName" -}}
{{- printf "%s-redis" (include "zunk8s.fullname" . | trunc 57 | trimSuffix "-") -}}
{{- end -}}

{{- define "zunk8s.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object of the chart. app.kubernetes.io/managed-by is Helm's here; the
objects zunk8s itself makes carry managed-by=zunk8s, so its watches never see these. */}}
{{- define "zunk8s.labels" -}}
helm.sh/chart: {{ include "zunk8s.chart" . }}
app.kubernetes.io/name: {{ include "zunk8s.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: zunk8s
{{- end -}}

{{- define "zunk8s.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zunk8s.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: api
{{- end -}}

{{- define "zunk8s.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "zunk8s.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end -}}

{{- define "zunk8s.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "zunk8s.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The value of zunk8s.openstack.org/instance on everything this installation makes:
zunk8s.translate.labels.instance_for(namespacePrefix), the prefix made label-safe then 10 hex
digits of its SHA-256 (tests/unit/charts checks both agree). */}}
{{- define "zunk8s.instanceLabel" -}}
{{- $prefix := .Values.namespacePrefix -}}
{{- $readable := regexReplaceAll "[^A-Za-z0-9_.-]" $prefix "-" | trimAll "-_." | trunc 40 | trimAll "-_." -}}
{{- $digest := sha256sum $prefix | trunc 10 -}}
{{- if $readable -}}
{{- printf "%s-%s" $readable $digest -}}
{{- else -}}
{{- $digest -}}
{{- end -}}
{{- end -}}

{{/* Where zunk8s's Redis comes from: "internal" (the in-chart Deployment), "external"
(redis.url or redis.existingSecret) or "none" (the in-process store: one replica only). */}}
{{- define "zunk8s.redisMode" -}}
{{- if or .Values.redis.url .Values.redis.existingSecret -}}
external
{{- else if .Values.redis.enabled -}}
internal
{{- else -}}
none
{{- end -}}
{{- end -}}

{{/* The in-chart Redis's password: the one already in the cluster's Secret (so `helm upgrade`
keeps it), else a new random one. Chosen once per render (kept in .Values._generated), so the
Secret and the checksum annotations agree. */}}
{{- define "zunk8s.redisPassword" -}}
{{- if not (hasKey .Values "_generated") -}}
{{- $_ := set .Values "_generated" dict -}}
{{- end -}}
{{- if not (hasKey .Values._generated "redisPassword") -}}
{{- $password := randAlphaNum 32 -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "zunk8s.redisName" .) -}}
{{- if and $existing $existing.data (hasKey $existing.data "password") -}}
{{- $password = index $existing.data "password" | b64dec -}}
{{- end -}}
{{- $_ := set .Values._generated "redisPassword" $password -}}
{{- end -}}
{{- .Values._generated.redisPassword -}}
{{- end -}}

{{/* Whether the chart makes the Secret holding zunk8s's credentials (keystone password or
static tokens file). */}}
{{- define "zunk8s.authSecretNeeded" -}}
{{- if and (eq .Values.auth.mode "keystone") (not .Values.auth.keystone.existingSecret) -}}
true
{{- else if and (eq .Values.auth.mode "static") (not .Values.auth.static.existingSecret) -}}
true
{{- end -}}
{{- end -}}

{{/* The chart's refusals: settings under which zunk8s would be unsafe or would not start.
Rendered by the Deployment, so `helm template`, `lint` and `install` all stop with the message. */}}
{{- define "zunk8s.validate" -}}
{{- if and (eq .Values.auth.mode "noauth") (not .Values.auth.allowNoauthRemote) -}}
{{- fail "auth.mode noauth is refused: it takes the project, user and roles from the X-Project-Id / X-User-Id / X-Roles headers of anyone who can connect, so any client could act as any project or as an admin. Use auth.mode keystone or static; for development on a private cluster only, set auth.allowNoauthRemote=true to accept that risk." -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (eq (include "zunk8s.redisMode" .) "none") -}}
{{- fail (printf "replicaCount %d needs Redis: replicas share locks, websocket tokens, exec sessions and the reconciler's leadership through it. Set redis.enabled=true (in-chart Redis), redis.url or redis.existingSecret (an external Redis), or replicaCount=1." (int .Values.replicaCount)) -}}
{{- end -}}
{{- $prefix := .Values.namespacePrefix -}}
{{- range $ns := list "default" "kube-system" "kube-public" "kube-node-lease" .Release.Namespace -}}
{{- if hasPrefix $prefix $ns -}}
{{- fail (printf "namespacePrefix %q is refused: the namespace %q starts with it, so a project named %q would map onto it and zunk8s would be allowed to write there. Choose a prefix no system namespace and not the release namespace starts with (e.g. \"zun-\")." $prefix $ns (trimPrefix $prefix $ns)) -}}
{{- end -}}
{{- end -}}
{{- if eq .Values.auth.mode "keystone" -}}
{{- $_ := required "auth.keystone.authUrl is required in keystone mode (e.g. https://keystone.example.com/v3)" .Values.auth.keystone.authUrl -}}
{{- $_ = required "auth.keystone.username (zunk8s's service user) is required in keystone mode" .Values.auth.keystone.username -}}
{{- $_ = required "auth.keystone.projectName (the service user's project, e.g. service) is required in keystone mode" .Values.auth.keystone.projectName -}}
{{- if not (or .Values.auth.keystone.existingSecret .Values.auth.keystone.password) -}}
{{- fail "auth.mode keystone needs zunk8s's service user password: set auth.keystone.password, or auth.keystone.existingSecret naming a Secret with the key `password`." -}}
{{- end -}}
{{- end -}}
{{- if eq .Values.auth.mode "static" -}}
{{- if not (or .Values.auth.static.existingSecret .Values.auth.static.tokens) -}}
{{- fail "auth.mode static needs the tokens file: set auth.static.tokens (see `zunk8s static-token --help`), or auth.static.existingSecret naming a Secret with the key `tokens.json`." -}}
{{- end -}}
{{- end -}}
{{- end -}}
