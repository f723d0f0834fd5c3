{{/* Names and labels shared by every object (TEAM.md: objects are named after the release). */}}
{{- define "triton-vllm.name" -}}
{{- default "triton-vllm" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "triton-vllm.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "triton-vllm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "triton-vllm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "triton-vllm.labels" -}}
{{ include "triton-vllm.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "triton-vllm.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "triton-vllm.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "triton-vllm.cacheClaim" -}}
{{- default (printf "%s-weights-cache" (include "triton-vllm.fullname" .)) .Values.weightsCache.existingClaim -}}
{{- end -}}
