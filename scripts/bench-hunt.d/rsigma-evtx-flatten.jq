# Flattens rsigma's nested EVTX records (Event.System, Event.EventData, Event.UserData) into
# the top-level names SigmaHQ's Windows rules use, and adds product/service/category for
# `--logsource-routing`, following vigil's crates/vigil-normalize/data/windows.toml. Sysmon
# 12/13/14 get no category: rsigma compares categories exactly, and a `registry_set` tag
# would hide every `registry_event` rule. Used by scripts/bench-hunt only.
.Event as $e
| ($e.System // {}) as $s
| ($s.EventID | if type == "object" then .["#text"] else . end) as $id
| ($s.Channel // "") as $ch
| ({"Security":"security","System":"system","Application":"application",
    "Microsoft-Windows-Sysmon/Operational":"sysmon",
    "Microsoft-Windows-PowerShell/Operational":"powershell",
    "Windows PowerShell":"powershell-classic",
    "Microsoft-Windows-TaskScheduler/Operational":"taskscheduler",
    "Microsoft-Windows-WMI-Activity/Operational":"wmi",
    "Microsoft-Windows-Windows Defender/Operational":"windefend",
    "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall":"firewall-as",
    "Microsoft-Windows-CodeIntegrity/Operational":"codeintegrity-operational",
    "Microsoft-Windows-AppXDeploymentServer/Operational":"appxdeployment-server",
    "Microsoft-Windows-AppxPackaging/Operational":"appxpackaging-om",
    "Microsoft-Windows-AppModel-Runtime/Admin":"appmodel-runtime",
    "MSExchange Management":"msexchange-management",
    "Microsoft-Windows-Bits-Client/Operational":"bits-client",
    "Microsoft-Windows-DNS Client Events/Operational":"dns-client",
    "DNS Server":"dns-server",
    "Microsoft-IIS-Configuration/Operational":"iis-configuration",
    "Microsoft-Windows-NTLM/Operational":"ntlm",
    "Microsoft-Windows-AppLocker/EXE and DLL":"applocker",
    "Microsoft-Windows-AppLocker/MSI and Script":"applocker",
    "Microsoft-Windows-AppLocker/Packaged app-Deployment":"applocker",
    "Microsoft-Windows-AppLocker/Packaged app-Execution":"applocker",
    "Microsoft-Windows-Security-Mitigations/KernelMode":"security-mitigations",
    "Microsoft-Windows-Security-Mitigations/UserMode":"security-mitigations",
    "Microsoft-Windows-DriverFrameworks-UserMode/Operational":"driver-framework"}[$ch]) as $svc
| (if $svc == "sysmon" then
     ({"1":"process_creation","2":"file_change","3":"network_connection","4":"sysmon_status",
       "5":"process_termination","6":"driver_load","7":"image_load","8":"create_remote_thread",
       "9":"raw_access_thread","10":"process_access","11":"file_event","15":"create_stream_hash",
       "16":"sysmon_status","17":"pipe_created","18":"pipe_created","19":"wmi_event",
       "20":"wmi_event","21":"wmi_event","22":"dns_query","23":"file_delete",
       "24":"clipboard_capture","25":"process_tampering","26":"file_delete_detected",
       "27":"file_block_executable","28":"file_block_shredding","29":"file_executable_detected",
       "255":"sysmon_error"}[$id | tostring])
   elif $ch == "Security" and $id == 4688 then "process_creation"
   elif $ch == "Microsoft-Windows-PowerShell/Operational" and $id == 4103 then "ps_module"
   elif $ch == "Microsoft-Windows-PowerShell/Operational" and $id == 4104 then "ps_script"
   elif $ch == "Windows PowerShell" and $id == 400 then "ps_classic_start"
   elif $ch == "Windows PowerShell" and $id == 600 then "ps_classic_provider_start"
   elif $ch == "Windows PowerShell" and $id == 800 then "ps_classic_script"
   else null end) as $cat
| (if ($e.EventData | type) == "object" then $e.EventData else {} end)
  + (if ($e.UserData | type) == "object" then ([$e.UserData[] | select(type == "object")] | add // {}) else {} end)
  + {EventID: $id, Channel: $ch, Provider_Name: ($s.Provider["#attributes"].Name), Computer: $s.Computer,
     product: "windows", service: $svc, category: $cat}
